import { describe, expect, it } from 'vitest';
import { matchRoute, schoolPeoplePath } from '../router';
import { canSeeSchoolPeople, peopleTab } from './SchoolPeople';

describe('school people page', () => {
  it('has a route /schools/{id}/people and tab paths', () => {
    expect(matchRoute('/schools/abc-1/people')).toEqual({ name: 'school-people', id: 'abc-1' });
    expect(matchRoute('/schools/abc-1/people/')).toEqual({ name: 'school-people', id: 'abc-1' });
    expect(matchRoute('/schools/a%2Fb/people').name).toBe('notfound');
    expect(matchRoute('/schools/abc/other').name).toBe('notfound');
    expect(schoolPeoplePath('abc-1')).toBe('/schools/abc-1/people');
    expect(schoolPeoplePath('abc-1', 'teachers')).toBe('/schools/abc-1/people?tab=teachers');
  });

  it('reads the tab from the address (anything unknown is All)', () => {
    expect(peopleTab('?tab=teachers')).toBe('teachers');
    expect(peopleTab('?tab=students')).toBe('students');
    expect(peopleTab('?tab=admins')).toBe('all');
    expect(peopleTab('')).toBe('all');
  });

  it('is offered to teachers and admins, not to students', () => {
    expect(canSeeSchoolPeople({ roles: ['teacher'] })).toBe(true);
    expect(canSeeSchoolPeople({ roles: ['admin'] })).toBe(true);
    expect(canSeeSchoolPeople({ roles: ['student'] })).toBe(false);
    expect(canSeeSchoolPeople({ roles: [] })).toBe(false);
  });
});
