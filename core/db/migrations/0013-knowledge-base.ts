import { Migration } from '@mikro-orm/migrations';

/**
 * Uploaded files and the knowledge base.
 *
 * - `uploads`: a file a user sent (POST /api/upload, or a document given to the knowledge base directly). The
 *   bytes are on disk under DATA_DIR/uploads, at `storage_key`; the type is the one sniffed from the bytes.
 * - `knowledge_documents`: a document of the knowledge base, its indexing status and progress. `active_run` is
 *   the indexing run whose chunks are searched; `current_run` the one in progress. A re-index writes its chunks
 *   beside the old ones and swaps `active_run` when it is done, so search never sees half a document.
 * - `knowledge_chunks`: the passages. `tsv` is the full-text vector of the chunk's normalised words (the
 *   'simple' configuration: no language's stemming or stop words, so Hebrew is searched as well as English);
 *   `embedding` the L2-normalised vector when the tenant has an AI provider (cosine similarity is then a dot
 *   product, computed in SQL: embedded PostgreSQL has no pgvector).
 */
export class Migration0013KnowledgeBase extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table uploads (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      user_id uuid references users(id) on delete set null,
      filename text not null check (length(filename) between 1 and 255),
      content_type text not null,
      size_bytes bigint not null check (size_bytes >= 0),
      sha256 text not null,
      storage_key text not null unique,
      created_at timestamptz not null default now())`);
    this.addSql(`create index uploads_tenant_id_created_at_index on uploads (tenant_id, created_at desc)`);

    this.addSql(`create table knowledge_documents (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      upload_id uuid unique references uploads(id) on delete set null,
      name text not null check (length(name) between 1 and 255),
      content_type text not null,
      size_bytes bigint not null check (size_bytes >= 0),
      status text not null default 'queued' check (status in ('queued', 'indexing', 'ready', 'failed')),
      stage text,
      progress integer not null default 0 check (progress between 0 and 100),
      char_count integer,
      chunk_count integer not null default 0,
      chunks_embedded integer not null default 0,
      embedding_model text,
      embedding_error text,
      error text,
      current_run uuid,
      active_run uuid,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      indexed_at timestamptz)`);
    this.addSql(`create index knowledge_documents_tenant_id_created_at_index on knowledge_documents (tenant_id, created_at desc)`);

    this.addSql(`create table knowledge_chunks (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      document_id uuid not null references knowledge_documents(id) on delete cascade,
      run_id uuid not null,
      chunk_index integer not null check (chunk_index >= 0),
      text text not null,
      tsv tsvector not null,
      embedding real[],
      unique (document_id, run_id, chunk_index))`);
    this.addSql(`create index knowledge_chunks_tenant_id_index on knowledge_chunks (tenant_id)`);
    this.addSql(`create index knowledge_chunks_tsv_index on knowledge_chunks using gin (tsv)`);
  }
}
