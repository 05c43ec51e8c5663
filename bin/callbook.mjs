#!/usr/bin/env node
// The `callbook` CLI. Sources are TypeScript run through tsx, like the service itself.
import { register } from 'tsx/esm/api';

register();
await import('../apps/cli/main.ts');
