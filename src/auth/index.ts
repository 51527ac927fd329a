// What feature modules import from auth: `import { CurrentUser, Roles } from '../auth/index.js'`.
export type { AuthUser } from './auth-user.interface.js';
export { CurrentUser } from './decorators/current-user.decorator.js';
export { Public, IS_PUBLIC_KEY } from './decorators/public.decorator.js';
export { Roles, ROLES_KEY } from './decorators/roles.decorator.js';
export { Scopes, SCOPES_KEY } from './decorators/scopes.decorator.js';
export { JwtAuthGuard } from './guards/jwt-auth.guard.js';
export { RolesGuard } from './guards/roles.guard.js';
export { ScopesGuard } from './guards/scopes.guard.js';
