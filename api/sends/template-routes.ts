/**
 * /v1/onboardings/:wabaId/templates: the WABA's marketing templates and whether each is safe to send
 * through MM API now. Read fresh from the onboarding (the whole book: a partner's read, not a send's).
 */
import { Router } from 'express';
import { MAX_TRACKED_TEMPLATES, viewTemplate } from '../../workflows/template-readiness';
import { ApiError } from '../http/errors';
import { templateParams, templateQuery, wabaIdParam } from '../partner/schemas';
import type { TemplateReadiness } from './template-readiness-cache';
import { validate } from '../http/validate';

export function templatesRouter(readiness: TemplateReadiness): Router {
  const router = Router();

  router.get('/onboardings/:wabaId/templates', async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    const book = await readiness.book(wabaId);
    const now = Date.now();
    res.json({ wabaId, templates: book.templates.map((t) => viewTemplate(t, book, now)) });
  });

  router.get('/onboardings/:wabaId/templates/:name', async (req, res) => {
    const { wabaId, name } = validate(templateParams, req.params, 'params');
    const { language } = validate(templateQuery, req.query, 'query');
    const book = await readiness.book(wabaId);
    const matches = book.templates.filter((t) => t.name === name && (language === undefined || t.language === language));
    if (matches.length === 0) {
      const notTracked = book.templatesNotTracked ? ` (${book.templatesNotTracked.count} approved template(s) are not tracked, past the ${MAX_TRACKED_TEMPLATES} an onboarding tracks)` : '';
      throw new ApiError(404, 'not_found', `no marketing template ${name}${language ? ` (${language})` : ''} is tracked for WABA ${wabaId}${notTracked}`);
    }
    if (matches.length > 1) {
      const languages = matches.map((t) => t.language).join(', ');
      throw new ApiError(400, 'invalid_request', `template ${name} exists in several languages (${languages}): say which with ?language=`, [
        { in: 'query', path: 'language', message: `one of ${languages}` },
      ]);
    }
    res.json(viewTemplate(matches[0], book, Date.now()));
  });

  return router;
}
