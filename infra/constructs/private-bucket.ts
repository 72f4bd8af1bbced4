/** What every bucket of the stack shares: no public access, ACLs off (the bucket owns every object), TLS only. */
import { BlockPublicAccess, type BucketProps, ObjectOwnership } from 'aws-cdk-lib/aws-s3';

export const PRIVATE_BUCKET: Pick<BucketProps, 'blockPublicAccess' | 'objectOwnership' | 'enforceSSL'> = {
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
};
