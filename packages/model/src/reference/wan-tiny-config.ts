// Sizes of the "wan-tiny" reference model. Structure follows Wan2.2-T2V-A14B; widths are toy-scale
// so a 2-core CPU can run a 480p clip in seconds.

export const WAN_TINY = {
  name: "wan-tiny",
  version: "0.1.0",
  tokenizer: { vocabSize: 259, maxLength: 128, padId: 0, bosId: 1, eosId: 2, byteOffset: 3 },
  text: { dim: 64, heads: 2, layers: 2, mlpDim: 128, seed: 101 },
  dit: { dim: 64, heads: 2, layers: 2, mlpDim: 128, freqDim: 64, patch: [1, 2, 2] as [number, number, number] },
  experts: [
    // High-noise expert: early steps (layout), low-noise expert: late steps (detail), as in A14B.
    {
      name: "high_noise",
      file: "denoiser_high_noise.onnx",
      minTimestep: 875,
      maxTimestep: 1000,
      guidanceScale: 4,
      seed: 202,
    },
    {
      name: "low_noise",
      file: "denoiser_low_noise.onnx",
      minTimestep: 0,
      maxTimestep: 875,
      guidanceScale: 3,
      seed: 303,
    },
  ],
  latent: { channels: 16, temporalCompression: 4, spatialCompression: 16 },
  vae: { chunkLatentFrames: 4, seed: 404, outputGain: 18 },
  sampler: { shift: 5, defaultSteps: 10, guidanceScale: 4, boundaryTimestep: 875, numTrainTimesteps: 1000 },
  resolutions: [
    { name: "480p", width: 832, height: 480 },
    { name: "480p-portrait", width: 480, height: 832 },
    { name: "720p", width: 1280, height: 720 },
    { name: "720p-portrait", width: 720, height: 1280 },
  ],
  frameRates: [16, 24, 30],
  maxDurationSeconds: 10,
} as const;
