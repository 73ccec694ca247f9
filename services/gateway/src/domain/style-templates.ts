/**
 * What each style hint does to the text the model is conditioned on: the
 * caller's prompt goes into `template` at "{prompt}", and `negative` is
 * appended to the negative prompt in use (the caller's or the default). The
 * README's API section documents this table; keep the two in step. Pure data.
 */
export interface StyleTemplate {
  readonly template: string;
  readonly negative: string;
}

export const STYLE_TEMPLATES: Readonly<Record<string, StyleTemplate>> = {
  "": { template: "{prompt}", negative: "" },
  realistic: { template: "{prompt}, photorealistic, natural lighting, fine detail", negative: "cartoon, painting" },
  cinematic: {
    template: "{prompt}, cinematic lighting, shallow depth of field, film grain, anamorphic",
    negative: "flat lighting, amateur footage",
  },
  anime: { template: "{prompt}, anime style, cel shading, vibrant colors", negative: "photorealistic, 3d render" },
  cartoon: { template: "{prompt}, cartoon style, bold outlines, flat colors", negative: "photorealistic" },
  documentary: {
    template: "{prompt}, documentary footage, handheld camera, natural light",
    negative: "staged, artificial lighting",
  },
  watercolor: { template: "{prompt}, watercolor painting, soft washes, paper texture", negative: "photorealistic" },
  "oil-painting": {
    template: "{prompt}, oil painting, visible brush strokes, rich colors",
    negative: "photorealistic",
  },
  "3d-render": { template: "{prompt}, 3d render, global illumination, octane render", negative: "hand-drawn, sketch" },
  "pixel-art": {
    template: "{prompt}, pixel art, 16-bit, limited palette",
    negative: "smooth gradients, photorealistic",
  },
  "vintage-film": {
    template: "{prompt}, vintage 16mm film, faded colors, light leaks, film grain",
    negative: "digital, modern",
  },
  noir: { template: "{prompt}, film noir, black and white, high contrast, hard shadows", negative: "color, saturated" },
  fantasy: { template: "{prompt}, epic fantasy, magical atmosphere, volumetric light", negative: "mundane, modern" },
  "sci-fi": { template: "{prompt}, science fiction, futuristic, neon accents", negative: "medieval, rustic" },
};

/** The styles a request may name ("" for none), as the contract lists them. */
export const STYLES: readonly string[] = Object.keys(STYLE_TEMPLATES);

/** The prompt pair the model is conditioned on, for a known style (see STYLES). */
export function applyStyle(
  style: string,
  prompt: string,
  negativePrompt: string,
): { prompt: string; negative: string } {
  const s = STYLE_TEMPLATES[style] ?? STYLE_TEMPLATES[""] ?? { template: "{prompt}", negative: "" };
  const negative = s.negative === "" ? negativePrompt : [negativePrompt, s.negative].filter((x) => x !== "").join(", ");
  return { prompt: s.template.replace("{prompt}", () => prompt), negative };
}
