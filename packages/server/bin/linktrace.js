#!/usr/bin/env node
// The `linktrace` command. The CLI is compiled TypeScript: run `npm run build` (npm start does) first.
import('../dist/src/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('linktrace: the server is not built yet; run `npm run build` in the repository first');
    process.exit(1);
  }
  throw error;
});
