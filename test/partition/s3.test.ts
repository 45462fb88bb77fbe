/** The partition property suite on S3: the real Ceph RADOS Gateway started by test/services.ts. */
import { s3 } from '../../src/storage/s3/driver.js';
import { ensureCeph } from '../services.js';
import { partitionSuite } from './suite.js';

const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;

partitionSuite(
  's3 on Ceph RGW',
  () => {
    if ('skip' in ceph) throw new Error('unreachable: the suite is skipped');
    const { endpoint, accessKeyId, secretAccessKey, region } = ceph;
    return { driver: s3({ endpoint, accessKeyId, secretAccessKey, region }), scheme: 's3' };
  },
  { skip, runs: 20, maxChunks: 10 },
);
