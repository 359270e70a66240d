/** Firmware maintenance: writing an image to an offline SSD, the reset that boots it, the desired version per model. */
import { type Actions, updateRow } from '../context';
import { refused } from '../errors';
import { findResource, getResource } from '../reads';
import { rememberWrites } from '../reverts';

/** Firmware actions. */
export const firmwareActions: Actions<'ssds.updateFirmware' | 'ssds.reset' | 'firmware.setTarget'> = {
  'ssds.updateFirmware': (ctx, input) => {
    const ssd = getResource(ctx.db, 'ssds', input.ssdId, 'ssdId');
    if (ssd.state !== 'offline') {
      throw refused('ssd-not-offline', `SSD ${ssd.id} is ${ssd.state}: take it offline (ssds.offline) before writing firmware`, 'ssdId');
    }
    // The write also remembers the version the drive runs now: once a reset boots the image, its
    // undo rolls the drive back to it (see revertFirmwareWrite).
    rememberWrites(ctx, 'ssds', ssd, { stagedFirmware: input.version, firmwareVersion: input.version });
    updateRow(ctx, 'ssds', 'ssd', ssd.id, { staged_firmware: input.version });
    return getResource(ctx.db, 'ssds', ssd.id);
  },

  'ssds.reset': (ctx, input) => {
    const ssd = getResource(ctx.db, 'ssds', input.ssdId, 'ssdId');
    if (ssd.state !== 'offline') {
      throw refused('ssd-not-offline', `SSD ${ssd.id} is ${ssd.state}: only an offline SSD may be reset`, 'ssdId');
    }
    // A failed update leaves the drive on its old firmware; the caller finds out by verifying.
    const failed = ctx.sim.takeDriveFault(ssd.id) === 'update-fails';
    updateRow(ctx, 'ssds', 'ssd', ssd.id, {
      state: 'resetting',
      pending_firmware: failed ? ssd.firmwareVersion : (ssd.stagedFirmware ?? ssd.firmwareVersion),
      staged_firmware: null,
    });
    return getResource(ctx.db, 'ssds', ssd.id);
  },

  'firmware.setTarget': (ctx, input) => {
    const existed = findResource(ctx.db, 'firmware', input.model) !== undefined;
    ctx.db
      .prepare(
        `INSERT INTO firmware_targets (model, version, set_at) VALUES (?, ?, ?)
         ON CONFLICT (model) DO UPDATE SET version = excluded.version, set_at = excluded.set_at`,
      )
      .run(input.model, input.version, ctx.now);
    ctx.record('firmware', input.model, existed ? 'updated' : 'created');
    return getResource(ctx.db, 'firmware', input.model);
  },
};
