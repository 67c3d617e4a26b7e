import { describeShopSync } from './shop-sync-scenarios.js';

// The same scenarios with the in-process stand-ins that `npm start` uses.
describeShopSync('memory');
