import { describe, expect, it } from 'vitest';
import { navItems } from '../App';
import type { Me } from '../api/client';
import { fieldLabel, profileChanges } from './About';
import { formatSize, mergeSubmission, openable, submissionActions } from './Assignment';
import { statusText, validLink } from './ClassAssignments';
import { grades } from './Schools';
import { shortName } from './Seating';
import { formatBytes } from './admin/Directory';
import { groupKind } from './admin/Groups';

const me = (roles: Me['roles'], tenant = true, local = false): Me => ({
  auth_method: 'microsoft',
  csrf_token: 't',
  link: { local },
  roles,
  session_expires_at: 0,
  tenant: tenant ? { consent_state: 'consented', display_name: 'Contoso', id: 't1', ms_tenant_id: 'm1' } : null,
  user: { display_name: 'X', has_local_password: local, id: 'u1', must_change_password: false },
});

describe('role-aware navigation', () => {
  it('shows admins the admin page, and nobody else', () => {
    const labels = (m: Me) => navItems(m).map((i) => i.label);
    expect(labels(me(['admin']))).toContain('Admin');
    expect(labels(me(['teacher']))).not.toContain('Admin');
    expect(labels(me(['student']))).not.toContain('Admin');
    expect(labels(me(['student']))).toEqual(['Home', 'Classes', 'Schools', 'About me', 'Account']);
  });
  it('a local account without a school sees no school pages, but Password', () => {
    expect(navItems(me([], false, true)).map((i) => i.label)).toEqual(['Home', 'Account', 'Password']);
  });
});

describe('submissions', () => {
  it('offers each role only the actions Microsoft allows in that state', () => {
    expect(submissionActions('working', 'student')).toEqual(['submit']);
    expect(submissionActions('submitted', 'student')).toEqual(['unsubmit']);
    expect(submissionActions('returned', 'student')).toEqual(['submit']);
    expect(submissionActions('submitted', 'teacher')).toEqual(['return', 'reassign']);
    expect(submissionActions('returned', 'teacher')).toEqual(['reassign']);
    expect(submissionActions('working', 'teacher')).toEqual([]);
    expect(submissionActions('submitted', 'admin')).toEqual([]);
  });
  it('keeps the roster name when an action answer lacks it', () => {
    const files = [{ id: 'r1', kind: 'file', display_name: 'essay.txt' }];
    const listed = { id: 's1', status: 'submitted', student_id: 'a', student_name: 'Ava Garcia', resources: files };
    const answer = { id: 's1', status: 'returned', student_name: null, student_id: null, resources: [] };
    expect(mergeSubmission(listed, answer)).toEqual({
      id: 's1',
      status: 'returned',
      student_id: 'a',
      student_name: 'Ava Garcia',
      resources: files,
    });
  });
  it('opens https links and files at their Microsoft 365 address, nothing else', () => {
    expect(openable({ link: 'https://example.org/a', web_url: null })).toBe('https://example.org/a');
    expect(openable({ link: 'javascript:alert(1)', web_url: 'https://x.sharepoint.com/f' })).toBeUndefined();
    expect(openable({ link: null, web_url: 'https://x.sharepoint.com/f' })).toBe('https://x.sharepoint.com/f');
    expect(openable({ link: null, web_url: 'data:text/html,hi' })).toBeUndefined();
    expect(openable({ link: null, web_url: null })).toBeUndefined();
  });
  it('says file sizes in words', () => {
    expect(formatSize(1)).toBe('1 byte');
    expect(formatSize(812)).toBe('812 bytes');
    expect(formatSize(4300)).toBe('4.2 KB');
    expect(formatSize(3 * 1024 * 1024)).toBe('3.0 MB');
  });
  it('names statuses in words', () => {
    expect(statusText('assigned')).toBe('Published');
    expect(statusText('submitted')).toBe('Handed in');
    expect(statusText('something')).toBe('Something');
    expect(statusText(null)).toBe('Unknown');
  });
});

describe('forms', () => {
  it('accepts https links only, and ignores empty link rows', () => {
    expect(validLink({ name: '', url: '' })).toBeUndefined();
    expect(validLink({ name: 'Doc', url: 'https://example.com/x' })).toBeUndefined();
    expect(validLink({ name: 'Doc', url: 'http://example.com/x' })).toBe('invalid_link');
    expect(validLink({ name: '', url: 'https://example.com' })).toBe('invalid_link');
    expect(validLink({ name: 'Doc', url: 'javascript:alert(1)' })).toBe('invalid_link');
    expect(validLink({ name: 'Doc', url: 'not a url' })).toBe('invalid_link');
  });
  it('sends only changed profile fields; an emptied field clears it', () => {
    expect(profileChanges({ mobilePhone: '+1 555', city: 'Paris', state: null }, { mobilePhone: '+1 555 ', city: '', state: 'IDF' })).toEqual({
      city: null,
      state: 'IDF',
    });
    expect(fieldLabel('mobilePhone')).toBe('Mobile phone');
    expect(fieldLabel('someNewField')).toBe('Some New Field');
  });
  it('formats grades and short names', () => {
    expect(grades({ lowest_grade: '9', highest_grade: '12' })).toBe('Grades 9–12');
    expect(grades({ lowest_grade: null, highest_grade: null })).toBeUndefined();
    expect(shortName('Ava Maria Garcia')).toBe('Ava G.');
    expect(shortName('Plato')).toBe('Plato');
  });
});

describe('admin console helpers', () => {
  it('names the kind of a group as Microsoft 365 does', () => {
    expect(groupKind({ group_types: ['Unified'], security_enabled: false, mail_enabled: true })).toBe('Microsoft 365 group');
    expect(groupKind({ group_types: [], security_enabled: true, mail_enabled: false })).toBe('Security group');
    expect(groupKind({ group_types: [], security_enabled: true, mail_enabled: true })).toBe('Mail-enabled security group');
    expect(groupKind({ group_types: [], security_enabled: false, mail_enabled: true })).toBe('Distribution list');
    expect(groupKind({ group_types: [], security_enabled: null, mail_enabled: null })).toBe('Group');
  });

  it('says how big a download was', () => {
    expect(formatBytes(124)).toBe('124 bytes');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});

describe('class documents (issue 16)', () => {
  it("gives Microsoft's handed-in work folder a plain name", async () => {
    const { documentName } = await import('./ClassPage');
    expect(documentName('Submitted files - 6f1c2e3a-1b2c-4d5e-8f90-123456789abc')).toBe('Handed-in work (kept by Microsoft 365)');
    expect(documentName('Worksheet.docx')).toBe('Worksheet.docx');
    expect(documentName(null)).toBe('Untitled');
  });
  it('matches pasted emails to teachers of the school', async () => {
    const { matchEmails } = await import('./ClassPage');
    const teachers = [{ id: 't1', mail: 'Ann@School.edu' }, { id: 't2', mail: null }];
    expect(matchEmails('ann@school.edu, ann@school.edu\nbob@school.edu', teachers)).toEqual({ ids: ['t1'], unknown: ['bob@school.edu'] });
  });
});
