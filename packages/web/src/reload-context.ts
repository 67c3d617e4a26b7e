import { createContext } from 'react';

/** Bumped when a token is saved: every page loads its data again. */
export const ReloadContext = createContext(0);
