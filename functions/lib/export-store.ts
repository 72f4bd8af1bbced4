/**
 * Where research exports go: an S3 bucket in AWS (a presigned GET URL per file), a directory locally (a URL the
 * local api-server serves after checking its signature and expiry, as S3 would a presigned one).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';

export interface ExportSink {
  /** Stores a file under a relative key such as `2026-.../manifest.json`. */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
}

export interface ExportStore extends ExportSink {
  /** A URL that lets whoever holds it download the file until it expires. */
  url(key: string, expiresInS: number): Promise<string>;
}

/**
 * The S3 client and presigner, imported on first use: of the functions holding an S3ExportStore, only an export
 * needs them, and loading them costs every cold start about 55 ms (docs/architecture.md section 1).
 */
async function loadS3() {
  const [{ GetObjectCommand, PutObjectCommand, S3Client }, { getSignedUrl }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  return { s3: new S3Client({}), GetObjectCommand, PutObjectCommand, getSignedUrl };
}

export class S3ExportStore implements ExportStore {
  private sdk: ReturnType<typeof loadS3> | undefined;

  constructor(private readonly bucket: string) {}

  private loaded(): ReturnType<typeof loadS3> {
    this.sdk ??= loadS3();
    return this.sdk;
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const { s3, PutObjectCommand } = await this.loaded();
    await s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async url(key: string, expiresInS: number): Promise<string> {
    const { s3, GetObjectCommand, getSignedUrl } = await this.loaded();
    return getSignedUrl(s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInS,
    });
  }
}

/** A key that stays inside the directory: relative, no `..`, no absolute part. */
export function safeRelativePath(key: string): string | null {
  const path = normalize(key);
  if (path.startsWith('..') || path.startsWith(sep) || /^[A-Za-z]:/.test(path) || path.includes(`${sep}..`))
    return null;
  return path;
}

export class DirectoryExportSink implements ExportSink {
  constructor(protected readonly dir: string) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const relative = safeRelativePath(key);
    if (relative === null) throw new Error(`export key leaves the directory: ${key}`);
    const path = join(this.dir, relative);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }
}

/** URL signatures for local exports: HMAC-SHA256 over the key and the expiry, with a per-stack secret. */
export class LocalUrlSigner {
  constructor(private readonly secret: Uint8Array) {}

  signature(key: string, expiresS: number): string {
    return createHmac('sha256', this.secret).update(`${key}\n${expiresS}`).digest('base64url');
  }

  /** Whether the signature is right and the URL has not expired at `nowMs`. */
  verify(key: string, expiresS: number, signature: string, nowMs: number): boolean {
    const expected = Buffer.from(this.signature(key, expiresS));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected) && expiresS * 1000 > nowMs;
  }
}

export const LOCAL_EXPORTS_PATH = '/exports/';

export class LocalExportStore extends DirectoryExportSink implements ExportStore {
  constructor(
    dir: string,
    private readonly signer: LocalUrlSigner,
    /** The origin serving LOCAL_EXPORTS_PATH, e.g. `http://127.0.0.1:8080`; read when a URL is made. */
    private readonly baseUrl: () => string,
    private readonly now: () => number = Date.now,
  ) {
    super(dir);
  }

  async url(key: string, expiresInS: number): Promise<string> {
    const expires = Math.floor(this.now() / 1000) + expiresInS;
    const url = new URL(
      `${LOCAL_EXPORTS_PATH}${key.split('/').map(encodeURIComponent).join('/')}`,
      this.baseUrl(),
    );
    url.searchParams.set('expires', String(expires));
    url.searchParams.set('signature', this.signer.signature(key, expires));
    return url.toString();
  }
}
