/**
 * `sledReplace`'s view: the technician it waits on (who, since when, the command to report the
 * hardware), how the evacuation and the rebalance go, and who replaced the hardware.
 */
import type { EvacuationProgress } from '../../schemas/sled';
import { AWAIT_HARDWARE_STEP, evacuationReport, hardwareReport, rebalanceReport } from '../../schemas/sled-reports';
import { formatAgo, truncate } from '../format';
import { shellWord } from '../saga-view/commands';
import { reportField, type SagaTypeView } from './saga-type-view';

/** `3 of 5 instances moved, 1 moving (i-4), 1 failed (i-5: no sled has room)` */
function progressText(p: EvacuationProgress): string {
  const parts = [`${p.migrated.length} of ${p.total} instance${p.total === 1 ? '' : 's'} moved`];
  if (p.inProgress.length > 0) parts.push(`${p.inProgress.length} moving (${truncate(p.inProgress.join(', '), 60)})`);
  if (p.failed.length > 0) parts.push(`${p.failed.length} failed (${truncate(p.failed.map((f) => `${f.instanceId}: ${f.error}`).join('; '), 100)})`);
  return parts.join(', ');
}

export const sledReplaceView: SagaTypeView = {
  sagaType: 'sledReplace',
  fields: (status, now) => [
    ...reportField(status, evacuationReport, 'evacuate', progressText),
    ...reportField(status, rebalanceReport, 'rebalance', progressText),
    ...reportField(status, hardwareReport, 'hardware', (h) =>
      h.replacedBy === undefined ? undefined : `replaced by ${h.replacedBy}, serial ${h.serial ?? '-'}, reported ${formatAgo(h.at, now)}`,
    ),
  ],
  asks(status) {
    const hardware = hardwareReport.read(status);
    const waiting = status.steps.some((s) => s.name === AWAIT_HARDWARE_STEP && s.state === 'running');
    if (!waiting || hardware?.since === undefined || hardware.waitingFor.length === 0) return [];
    return [
      {
        step: AWAIT_HARDWARE_STEP,
        waitsFor: 'the new hardware',
        since: hardware.since,
        who: hardware.waitingFor,
        task: 'swap the hardware and report its serial',
        command: `unwind sled hardware-replaced ${shellWord(status.workflowId)} --serial <serial> --as <technician>`,
        action: { name: 'hardwareReplaced', label: 'Report replaced hardware' },
        title: 'New hardware awaited',
      },
    ];
  },
};
