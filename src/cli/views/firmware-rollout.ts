/** `ssdFirmwareRollout`'s view: its progress, as `unwind firmware status` counts it. */
import { firmwareReport, type FirmwareProgress } from '../../schemas/firmware-reports';
import { reportField, type SagaTypeView } from './saga-type-view';

/** `4 of 10 SSDs done, 2 in progress, 1 blocked; wave (waves 3)`: states with none are left out. */
function progressText(p: FirmwareProgress): string {
  const others = (['in-progress', 'pending', 'deferred', 'blocked', 'failed'] as const)
    .filter((state) => (p.counts[state] ?? 0) > 0)
    .map((state) => `${p.counts[state]} ${state}`);
  const phase = `${p.phase}${p.reason ? `: ${p.reason}` : ''}`;
  return [`${p.counts.done ?? 0} of ${p.total} SSDs done`, ...others].join(', ') + `; ${phase} (waves ${p.waves})`;
}

export const firmwareRolloutView: SagaTypeView = {
  sagaType: 'ssdFirmwareRollout',
  fields: (status) => reportField(status, firmwareReport, 'firmware', progressText),
};
