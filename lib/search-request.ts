/** A search's settings besides its prompt (each kept in the key it finds). */
export interface SearchRequest {
  /** Omitted: a fresh seed each time. */
  seed?: bigint;
  /** "Avoid: …", guidance's unconditional branch; empty or omitted for none. */
  negative?: string;
  /** Candidates to render and rank, 1..the server's limit (default: the model's lob.search_best_of, else 1). */
  bestOf?: number;
  /** A guidance scale (GUIDANCE_SCALES) the key keeps; omitted: the model's, not kept. */
  guidance?: number;
}
