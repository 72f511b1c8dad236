/** DIR/README.txt of a research batch: what is where, and how to load it. Fixed text, so reruns write the same bytes. */
export const README_TEXT = `Research batch written by \`lob batch\` (Library of Babel for a diffusion model)

manifest.jsonl   one JSON object per row, in batch order:
                 status ("ok" or "failed", with "error" and "error_kind": "input" or "runtime"),
                 key (the whole recipe: \`lob render KEY\` gives images/NAME.png byte for byte),
                 guidance (the scale the image was rendered at; a row's guidance is kept in its key),
                 seed / prompt / negative_prompt (prompt rows), image, hidden, gen5 (paths relative to this folder),
                 hidden_shape, sha256 of each file, seconds (time taken), recipe, input (the row as given)
images/NAME.png  the image; the key is in its "lob-key" text chunk
hidden/NAME.npy  float32: the final latent that enters the VAE decoder, shape [C, H, W] ([4, 16, 16] for the
                 default model); with --save-steps every step's latent, [steps+1, C, H, W] (index 0 = initial noise
                 times the scheduler's init sigma, the last = the final latent)
gen5/NAME.gen5   with --gen5: image, latents, embedding and the key as provenance (\`lob gen5 inspect\`)

Load in Python:

    import json, numpy as np
    rows = [json.loads(line) for line in open("manifest.jsonl")]
    ok = [r for r in rows if r["status"] == "ok"]
    hidden = np.stack([np.load(r["hidden"]) for r in ok])     # [N, C, H, W] (or [N, steps+1, C, H, W])

    import torch
    latents = torch.from_numpy(hidden)                        # float32
    from PIL import Image
    images = [np.asarray(Image.open(r["image"])) for r in ok] # uint8 [H, W, 3]

Rerunning the same \`lob batch\` command resumes: rows whose files are here with the recorded SHA-256 are skipped.
`;
