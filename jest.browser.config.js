// The headless-browser tests (`npm run test:browser`): kept out of `npm test` because they need
// a Chromium at /usr/bin/chromium (CI installs Debian's; see `.ci/run`). Same SWC transform and
// ESM settings as the e2e project of jest.config.js.
import base from './jest.config.js';

const e2e = base.projects.find((project) => project.displayName === 'e2e');

export default {
  testEnvironment: e2e.testEnvironment,
  extensionsToTreatAsEsm: e2e.extensionsToTreatAsEsm,
  moduleNameMapper: e2e.moduleNameMapper,
  transform: e2e.transform,
  displayName: 'browser',
  rootDir: '.',
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
  // Browser start-up and Swagger UI's first render are slower than an HTTP round trip.
  testTimeout: 60_000,
};
