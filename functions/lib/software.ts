/** Name and version of this software, recorded in what it produces (export manifests, Parquet metadata). */
import packageJson from '../../package.json' with { type: 'json' };

export const SOFTWARE = { name: packageJson.name, version: packageJson.version } as const;
