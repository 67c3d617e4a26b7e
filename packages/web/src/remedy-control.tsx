/**
 * The repair of one finding (docs/remedies.md): its `replay` (or `undo`, for a duplicate write) and a
 * dry run, asked with the remedy token — its own scope, asked for on first use and kept in this tab's
 * sessionStorage, never in a URL. After the click the remedy's state follows the server (pending →
 * delivered → succeeded → verified, or failed/expired/superseded with why) with a link to the trace
 * it ran as. A second click asks the server again, which answers with the remedy that exists (nothing
 * runs twice); the control says so. Refusals show the server's code and message.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError, getRemedy, requestRemedy } from './api/client.js';
import { clearRemedyToken, readRemedyToken, saveRemedyToken } from './api/token.js';
import type { FindingRemedySummary, FindingView, RemedyDryRunResponse } from './api/types.js';
import { FINISHED_STATES, REMEDY_ACTION_OF_RULE, RETRYABLE_STATES } from './remedy-actions.js';
import { RemedyState } from './remedy-state.js';
import { TokenDialog, type TokenDialogText } from './token-dialog.js';

/** How often an open remedy's state is asked for. */
const POLL_MS = 1000;

const REMEDY_TOKEN: TokenDialogText = {
  title: 'Remedy token',
  note: (
    <>
      Running a remedy re-runs a production step, so it needs the remedy token (<code>linktrace serve --remedy-token</code>), not the
      server&apos;s token. It is kept in this tab only (sessionStorage) and never put in a URL.
    </>
  ),
  label: 'Remedy token',
};

type Shown = Pick<FindingRemedySummary, 'id' | 'action' | 'state' | 'remedyTraceId' | 'reason'>;

/** What a refusal means for the user, beyond the server's own message. */
function explain(e: ApiError): string {
  const hint =
    e.code === 'remedy_forbidden'
      ? ' The remedy token was forgotten; the next click asks for it again.'
      : e.status === 429
        ? e.retryAfterS !== undefined
          ? ` Try again in ${e.retryAfterS} s.`
          : ' Try again later.'
        : '';
  return `${e.status} ${e.code}: ${e.message}${hint}`;
}

export function RemedyControl({ finding }: { finding: FindingView }): ReactNode {
  const action = REMEDY_ACTION_OF_RULE[finding.rule];
  const [remedy, setRemedy] = useState<Shown | undefined>(finding.remedy);
  const [note, setNote] = useState<string | undefined>(undefined);
  const [dryRun, setDryRun] = useState<RemedyDryRunResponse | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState<{ dryRun: boolean } | undefined>(undefined);
  const [hasToken, setHasToken] = useState(() => readRemedyToken() !== undefined);

  const open = remedy !== undefined && !FINISHED_STATES.has(remedy.state);
  // An open remedy's state is followed until it is finished (or the control goes away).
  useEffect(() => {
    if (!open || remedy === undefined) return;
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      getRemedy(remedy.id, ctl.signal).then(
        (r) => {
          if (!ctl.signal.aborted) setRemedy({ id: r.id, action: r.action, state: r.state, remedyTraceId: r.remedyTraceId, reason: r.reason });
        },
        (e: unknown) => {
          if (!ctl.signal.aborted) setError(`Could not follow remedy ${remedy.id}: ${e instanceof ApiError ? explain(e) : String(e)}`);
        },
      );
    }, POLL_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [open, remedy]);

  // Servers older than remedies send findings without an id: there is nothing to ask for.
  if (action === undefined || typeof finding.id !== 'string') return <RemedyState remedy={remedy} />;

  const run = async (token: string, asDryRun: boolean): Promise<void> => {
    setBusy(true);
    setError(undefined);
    setNote(undefined);
    setDryRun(undefined);
    try {
      const answer = await requestRemedy(finding.id, { action, dryRun: asDryRun }, token);
      if ('dryRun' in answer) setDryRun(answer);
      else {
        const r = answer.remedy;
        setRemedy({ id: r.id, action: r.action, state: r.state, remedyTraceId: r.remedyTraceId, reason: r.reason });
        if (!answer.created) setNote(`This finding already has a remedy (${r.id}, ${r.state}): showing it; nothing ran again.`);
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === 'remedy_forbidden') {
        clearRemedyToken();
        setHasToken(false);
      }
      setError(e instanceof ApiError ? explain(e) : `The request failed: ${String(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const click = (asDryRun: boolean): void => {
    const token = readRemedyToken();
    if (token === undefined) setAsking({ dryRun: asDryRun });
    else void run(token, asDryRun);
  };
  const again = remedy !== undefined && RETRYABLE_STATES.has(remedy.state);
  const label = action === 'undo' ? 'Undo duplicate' : 'Replay';
  return (
    <span className="remedy-control">
      <RemedyState remedy={remedy} />{' '}
      <span className="remedy-buttons" role="group" aria-label={`Remedy of ${finding.rule} at ${finding.service}`}>
        <button
          type="button"
          disabled={busy}
          title={action === 'undo' ? 'Ask the service to revert the duplicate write' : 'Ask the service to run the missing step again for this entity and version'}
          onClick={() => click(false)}
        >
          {again ? `${label} again` : label}
        </button>
        <button type="button" disabled={busy} title="What would run, and on which live instances; nothing runs" onClick={() => click(true)}>
          Dry run
        </button>
        {hasToken ? (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              clearRemedyToken();
              setHasToken(false);
            }}
          >
            Forget remedy token
          </button>
        ) : null}
      </span>
      {note !== undefined ? (
        <span className="remedy-note" role="status">
          {note}
        </span>
      ) : null}
      {dryRun !== undefined ? (
        <span className="remedy-note remedy-dry-run" role="status">
          Dry run: {dryRun.wouldRun}.{dryRun.liveInstances.length > 0 ? ` Live: ${dryRun.liveInstances.join(', ')}.` : ''} Nothing was queued.
        </span>
      ) : null}
      {error !== undefined ? (
        <span className="remedy-error" role="alert">
          {error}
        </span>
      ) : null}
      {asking !== undefined ? (
        <TokenDialog
          text={REMEDY_TOKEN}
          onCancel={() => setAsking(undefined)}
          onSave={(token) => {
            saveRemedyToken(token);
            setHasToken(true);
            const asDryRun = asking.dryRun;
            setAsking(undefined);
            void run(token, asDryRun);
          }}
        />
      ) : null}
    </span>
  );
}
