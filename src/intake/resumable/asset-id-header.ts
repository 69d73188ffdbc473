/**
 * The response header of the completing tus request that names the HeyGen asset (its body is the
 * record). In a file of its own so that the edge can name it without loading the tus intake, which is
 * loaded on first use (intake/deferred-resumable-intake.ts).
 */
export const ASSET_ID_HEADER = 'Asset-Id';
