/** The UI's copy of which action repairs which rule (see src/remedy-actions.ts) matches the model's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REMEDY_ACTION_OF_RULE as MODEL } from '@linktrace/model';
import { REMEDY_ACTION_OF_RULE } from '../src/remedy-actions.js';

describe('remedy action of each rule', () => {
  it('is the model REMEDY_ACTION_OF_RULE', () => {
    assert.deepEqual({ ...REMEDY_ACTION_OF_RULE }, { ...MODEL });
  });
});
