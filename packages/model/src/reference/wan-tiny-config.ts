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
  // lowPass: the decoder's separable low-pass at latent resolution (box-5 * [1,2,1], sum 20), also
  // the preview's smoothing so a preview shows what the decoder will.
  vae: {
    chunkLatentFrames: 4,
    seed: 404,
    outputGain: 18,
    lowPass: [1 / 20, 3 / 20, 4 / 20, 4 / 20, 4 / 20, 3 / 20, 1 / 20],
  },
  // Live-preview projection (logit units, then sigmoid, as the decoder ends), fitted by
  // derive-preview-factors-cli.js to what the decoder makes of four denoised clips (RMSE
  // 15.1 levels on 16x16-pixel blocks). Re-run it after changing the decoder or the denoiser.
  preview: {
    latentRgbFactors: [
      [-0.3994, 0.2208, -0.1401],
      [-0.5168, 0.2798, 0.7187],
      [0.125, -0.0681, -0.0472],
      [0.1251, 0.2176, -1.1864],
      [0.1354, -0.482, 0.3564],
      [-0.0421, -0.4242, -0.3837],
      [-0.0341, 0.3981, -0.2122],
      [-0.2045, 0.249, -0.3646],
      [0.0184, 0.37, -0.3184],
      [-0.4437, -0.3196, 0.5355],
      [0.3377, 0.6343, -0.1269],
      [0.2526, 0.6501, -0.0569],
      [-0.0299, -0.8645, 0.1901],
      [0.1002, -0.7028, 0.0041],
      [-0.2771, -0.7792, 0.0258],
      [-0.0084, -0.4988, -0.059],
    ],
    latentRgbBias: [-1.1808, 0.7906, -1.5214],
  },
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
