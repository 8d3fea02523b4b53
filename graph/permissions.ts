import type { TokenDebugInfo } from './client';

/**
 * The permissions the service needs from a token (the Facebook Login for Business configuration in docs/embedded-signup.md):
 * both WhatsApp permissions to onboard and send, `ads_read` only for the Insights API.
 */
export const REQUIRED_PERMISSIONS = ['whatsapp_business_management', 'whatsapp_business_messaging'] as const;
export const INSIGHTS_PERMISSION = 'ads_read';

export interface TokenPermissions {
  /** Meta says the token is valid (not expired, not revoked). */
  valid: boolean;
  /** Required permissions the token lacks (for `wabaId`, when given). */
  missing: string[];
  /** `ads_read` granted: conversion metrics can be read from the Insights API. */
  insightsAvailable: boolean;
}

/**
 * Reads a `debug_token` answer. A permission counts only when it is in `scopes` and, when given a
 * WABA, when its `granular_scopes` entry (if any) lists that WABA or no targets at all.
 */
export function permissionsOf(info: TokenDebugInfo, wabaId?: string): TokenPermissions {
  const granted = (permission: string) => {
    if (!info.scopes.includes(permission)) return false;
    if (wabaId === undefined) return true;
    const granular = info.granularScopes.find((g) => g.scope === permission);
    return !granular?.targetIds || granular.targetIds.includes(wabaId);
  };
  return {
    valid: info.valid,
    missing: REQUIRED_PERMISSIONS.filter((p) => !granted(p)),
    insightsAvailable: granted(INSIGHTS_PERMISSION),
  };
}

/** "whatsapp_business_messaging", "whatsapp_business_management and whatsapp_business_messaging". */
export const namePermissions = (missing: string[]) => missing.join(' and ');
