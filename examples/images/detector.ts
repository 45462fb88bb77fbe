/**
 * Face detection with @vladmandic/face-api on TensorFlow.js's WebAssembly backend: the models (SSD
 * MobileNet v1 or the tiny face detector, and the 68-point landmark net) load from the weights files
 * that ship inside the npm package, so nothing is downloaded at run time.
 *
 * This runs in the workers. face-api is loaded with `require` from the worker's own node_modules (not
 * bundled into the function): TensorFlow's WASM backend finds its .wasm files beside its own code.
 * A worker process loads the models once and keeps them for every call it runs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');

/** Which detector finds the faces. */
export type DetectorName = 'ssd' | 'tiny';

/** A point in image pixels. */
export interface Point {
  x: number;
  y: number;
}

/** One face found in an image. */
export interface Detection {
  score: number;
  /** Bounding box: x, y, width, height. */
  box: [number, number, number, number];
  /** Centres of the eye on the left of the image and of the one on the right. */
  leftEye: Point;
  rightEye: Point;
}

/** An RGB image as raw bytes, row by row. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

let loading: Promise<FaceApi> | undefined;

/** Loads face-api, the WASM backend and the models, once per process. */
export function loadFaceApi(): Promise<FaceApi> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    // face-api's bundled typings of `tf` leave out the backend functions; they are there at run time.
    const tf = faceapi.tf as unknown as { setBackend(name: string): Promise<boolean>; ready(): Promise<void> };
    await tf.setBackend('wasm');
    await tf.ready();
    const models = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    await Promise.all([
      faceapi.nets.ssdMobilenetv1.loadFromDisk(models),
      faceapi.nets.tinyFaceDetector.loadFromDisk(models),
      faceapi.nets.faceLandmark68Net.loadFromDisk(models),
    ]);
    return faceapi;
  })();
  return loading;
}

const mean = (points: ReadonlyArray<Point>): Point => ({
  x: points.reduce((s, p) => s + p.x, 0) / points.length,
  y: points.reduce((s, p) => s + p.y, 0) / points.length,
});

/** Finds the faces of an image and their eyes. */
export async function detectFaces(img: RgbImage, detector: DetectorName, minConfidence: number): Promise<Detection[]> {
  const faceapi = await loadFaceApi();
  const tensor = faceapi.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  try {
    const options =
      detector === 'tiny'
        ? new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: minConfidence })
        : new faceapi.SsdMobilenetv1Options({ minConfidence });
    const faces = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks();
    return faces.map((f) => {
      const b = f.detection.box;
      return {
        score: f.detection.score,
        box: [b.x, b.y, b.width, b.height],
        leftEye: mean(f.landmarks.getLeftEye()),
        rightEye: mean(f.landmarks.getRightEye()),
      };
    });
  } finally {
    tensor.dispose();
  }
}

/** The eyes of an image that is a face already (an aligned crop), by the landmark net alone. */
export async function findEyes(img: RgbImage): Promise<{ leftEye: Point; rightEye: Point }> {
  const faceapi = await loadFaceApi();
  const tensor = faceapi.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  try {
    const found = await faceapi.detectFaceLandmarks(tensor);
    const lm = Array.isArray(found) ? found[0] : found;
    if (!lm) throw new Error('no landmarks found');
    return { leftEye: mean(lm.getLeftEye()), rightEye: mean(lm.getRightEye()) };
  } finally {
    tensor.dispose();
  }
}
