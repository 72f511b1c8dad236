import Ajv, { type ValidateFunction } from 'ajv';
import { Gen5Error } from './errors.ts';
import type { Json } from './pyjson.ts';

/**
 * gen5 0.1.0's META schema (gen5/core/constants.py JSON_SCHEMA), verbatim, draft-07. Validated on write (as 0.1.0
 * does) and on read (0.1.0 does not). Additional properties are allowed everywhere: that is where our
 * provenance lives.
 */
export const GEN5_SCHEMA_TEXT = `{
"$schema": "http://json-schema.org/draft-07/schema#",
"title": "GEN5 Metadata Schema",
"type": "object",

"properties": {
"gen5_metadata": {
    "type": "object",

    "properties": {

    "file_info": {
        "type": "object",
        "properties": {
        "magic":          { "type": "string", "const": "GEN5" },
        "version_major":  { "type": "integer", "minimum": 1 },
        "version_minor":  { "type": "integer", "minimum": 0 },
        "file_size":      { "type": "integer", "minimum": 0 },
        "chunk_count":    { "type": "integer", "minimum": 0 }
        },
        "required": [
        "magic",
        "version_major",
        "version_minor",
        "file_size",
        "chunk_count"
        ]
    },

    "model_info": {
        "type": "object",
        "properties": {
        "model_name": { "type": "string" },
        "version":    { "type": "string" },
        "date":       { "type": "string" },
        "prompt":     { "type": "string" },
        "tags": {
            "type": "array",
            "items": { "type": "string" }
        },

        "generation_settings": {
            "type": "object",
            "properties": {
            "seed":         { "type": "integer", "minimum": 0 },
            "steps":        { "type": "integer", "minimum": 1 },
            "sampler":      { "type": "string" },
            "cfg_scale":    { "type": "number", "minimum": 0 },
            "scheduler":    { "type": "string" },
            "eta":          { "type": "number", "minimum": 0 },
            "guidance":     { "type": "string" },
            "precision":    { "type": "string" },
            "deterministic":{ "type": "boolean" }
            },
            "required": ["seed", "steps", "sampler"]
        },

        "hardware_info": {
            "type": "object",
            "properties": {
            "machine_name": { "type": "string" },
            "os":           { "type": "string" },
            "cpu":          { "type": "string" },
            "cpu_cores":    { "type": "integer", "minimum": 1 },

            "gpu": {
                "type": "array",
                "items": {
                "type": "object",
                "properties": {
                    "name":         { "type": "string" },
                    "memory_gb":    { "type": "number", "minimum": 0 },
                    "driver":       { "type": "string" },
                    "cuda_version": { "type": "string" }
                },
                "required": ["name"]
                }
            },

            "ram_gb":      { "type": "number", "minimum": 0 },
            "framework":   { "type": "string" },
            "compute_lib": { "type": "string" }
            },
            "required": ["os"]
        }
        },

        "required": [
        "model_name",
        "version",
        "date",
        "prompt",
        "tags"
        ]
    },

    "chunks": {
        "type": "array",
        "items": {
        "type": "object",
        "properties": {
            "index":             { "type": "integer", "minimum": 0 },
            "type":              { "type": "string" },
            "flags":             { "type": "string" },
            "offset":            { "type": "integer", "minimum": 0 },
            "compressed_size":   { "type": "integer", "minimum": 0 },
            "uncompressed_size": { "type": "integer", "minimum": 0 },
            "hash":              { "type": "string" },
            "extra":             { "type": "object" },
            "compressed":        { "type": "boolean" }
        },
        "required": [
            "index",
            "type",
            "flags",
            "offset",
            "compressed_size",
            "uncompressed_size",
            "hash",
            "extra",
            "compressed"
        ]
        }
    }
    },

    "required": ["file_info", "model_info", "chunks"]
}
},

"required": ["gen5_metadata"]
}
`;

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (!validator) {
    // strict off: the schema is 0.1.0's as written, and Ajv's strict mode flags harmless draft-07 idioms in it.
    const ajv = new Ajv({ allErrors: false, strict: false });
    validator = ajv.compile(JSON.parse(GEN5_SCHEMA_TEXT));
  }
  return validator;
}

/** Throws Gen5Error('SCHEMA') naming the first failing location, as 0.1.0's Gen5MetadataError would. */
export function validateMeta(meta: Json): void {
  const validate = getValidator();
  if (validate(meta)) return;
  const e = validate.errors?.[0];
  const where = e?.instancePath ? e.instancePath : '(root)';
  throw new Gen5Error('SCHEMA', `META fails the gen5 0.1.0 schema at ${where}: ${e?.message ?? 'invalid'}`);
}
