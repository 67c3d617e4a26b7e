export * from './span.js';
