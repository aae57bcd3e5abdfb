import { regionOfNumber, type ProveRegion } from '../prove/regions.js';
import { InvalidInputError } from './errors.js';

/**
 * Which of Prove's regions a start goes to. With both regions configured, the number's country
 * decides (NA numbers to US, all others to EU); a phone-less start goes to the region the caller
 * names, or the default. With one region configured every start goes there, as before regions
 * existed: Prove itself refuses a number that region does not serve.
 */

export interface ServedRegions {
  /** The regions with credentials; never empty. */
  readonly regions: readonly ProveRegion[];
  readonly defaultRegion: ProveRegion;
}

const NAMES: Record<ProveRegion, string> = { us: 'US', eu: 'EU' };

export function chooseRegion(phoneNumber: string | undefined, requested: ProveRegion | undefined, served: ServedRegions): ProveRegion {
  if (requested) {
    if (!served.regions.includes(requested)) {
      throw new InvalidInputError('region', `This gateway has no Prove credentials for the ${NAMES[requested]} region`);
    }
    const home = phoneNumber && served.regions.length > 1 ? regionOfNumber(phoneNumber) : requested;
    if (home !== requested) {
      throw new InvalidInputError('region', `This number is served by Prove's ${NAMES[home]} region, not ${NAMES[requested]}`);
    }
    return requested;
  }
  if (served.regions.length === 1) return served.regions[0]!;
  return phoneNumber ? regionOfNumber(phoneNumber) : served.defaultRegion;
}
