/**
 * Research exports on the local stack, standing in for the S3 bucket and its presigned URLs: files under a
 * directory, served at /exports/... only with a valid signature that has not expired.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import {
  LOCAL_EXPORTS_PATH,
  LocalExportStore,
  LocalUrlSigner,
  safeRelativePath,
} from '../../functions/lib/export-store.js';
import { CONTENT_TYPES } from '../../functions/lib/research-export-job.js';

const CONTENT_TYPES_BY_EXTENSION: Record<string, string> = {
  '.csv': CONTENT_TYPES.csv,
  '.parquet': CONTENT_TYPES.parquet,
  '.json': CONTENT_TYPES.json,
};

export interface LocalExports {
  store: LocalExportStore;
  /** Whether the request is for an export file (then it has been answered). */
  serve(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
}

export function localExports(dir: string, baseUrl: () => string, now: () => number): LocalExports {
  // A secret per process: a restart ends every URL handed out, as their expiry would.
  const signer = new LocalUrlSigner(randomBytes(32));
  return {
    store: new LocalExportStore(dir, signer, baseUrl, now),
    async serve(request, response, url) {
      if (!url.pathname.startsWith(LOCAL_EXPORTS_PATH)) return false;
      const key = safeRelativePath(decodeURIComponent(url.pathname.slice(LOCAL_EXPORTS_PATH.length)));
      const expires = Number(url.searchParams.get('expires'));
      const signature = url.searchParams.get('signature') ?? '';
      if (key === null || !signer.verify(key, expires, signature, now())) {
        response
          .writeHead(403, { 'content-type': 'text/plain' })
          .end('this link is not valid or has expired');
        return true;
      }
      const path = join(dir, key);
      const found = await stat(path).catch(() => undefined);
      if (!found?.isFile()) {
        response.writeHead(404).end('not found');
        return true;
      }
      const extension = /\.[a-z]+$/.exec(path)?.[0] ?? '';
      response.writeHead(200, {
        'content-type': CONTENT_TYPES_BY_EXTENSION[extension] ?? 'application/octet-stream',
        'content-disposition': `attachment; filename="${basename(path)}"`,
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : await readFile(path));
      return true;
    },
  };
}
