/*
 * recgen extension script. Built by concatenating the files of sql/schema in name
 * order (see Makefile); edit the parts, not the built file.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION recgen" to load this file. \quit

COMMENT ON SCHEMA recgen IS
    'recgen: personalized recommendations and LLM-written marketing content';
