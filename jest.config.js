// Jest runs the TypeScript sources as native ES modules, compiled by SWC with the
// same decorator semantics as tsc (legacy decorators + design-type metadata).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

// Files about Redis or PostgreSQL themselves run only in `npm run test:services`.
const servicesOnly = process.env.TEST_SERVICES === '1' ? [] : ['<rootDir>/test/redis-', '<rootDir>/test/postgres-'];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc },
};

const unit = { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] };

// `npm run test:services` runs the e2e suite only, against PostgreSQL and Redis.
export default {
  // Hooks boot apps and databases; 30 s leaves room on a busy 2-core machine.
  testTimeout: 30_000,
  projects: [
    ...(process.env.TEST_SERVICES === '1' ? [] : [unit]),
    {
      ...common,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...servicesOnly],
    },
  ],
};
