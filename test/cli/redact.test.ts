/**
 * Redaction of connection strings in CLI messages: passwords holding `/` or `@`, and secrets in the
 * query, never show.
 */
import { describe, expect, it } from 'vitest';
import { redactUri } from '../../src/cli/redact.js';

describe('redactUri', () => {
  it('hides passwords whatever they contain', () => {
    expect(redactUri('mongodb://app:s3cret@db.example:27017/jobs')).toBe('mongodb://app:***@db.example:27017/jobs');
    expect(redactUri('mongodb://app:pa/ss@word@db1:27017,db2:27017/jobs?replicaSet=rs0')).toBe('mongodb://app:***@db1:27017,db2:27017/jobs?replicaSet=rs0');
    expect(redactUri('mongodb+srv://app:p%40ss@cluster0.example.net/')).toBe('mongodb+srv://app:***@cluster0.example.net/');
    for (const uri of ['mongodb://app:pa/ss@word@db1/jobs', 'mongodb://a:b:c@@h/x', 'mongodb://app:p?x@h']) {
      expect(redactUri(uri)).not.toMatch(/pa\/ss|word@db1|b:c|p\?x/);
    }
  });

  it('hides secret query values and keeps the rest', () => {
    const out = redactUri('mongodb://db.example/jobs?authSource=admin&tlsCertificateKeyFilePassword=hunter2&authMechanismProperties=AWS_SESSION_TOKEN:abc&w=majority');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('abc');
    expect(out).toContain('w=majority');
    expect(out.startsWith('mongodb://db.example/jobs?')).toBe(true);
  });

  it('keeps a URI without credentials as it is, and hides what it cannot parse', () => {
    expect(redactUri('mongodb://localhost:27017')).toBe('mongodb://localhost:27017');
    expect(redactUri('not a uri with a p4ssword')).toBe('***');
  });
});
