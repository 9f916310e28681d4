"""Demo data, SQL part two: the `out_<table>` tables that become the data files.

They read the working tables of :mod:`seqdsl.demo.draw_sql` and the macros defined
there; `w_people` gathers what a contact row needs from the other tables.
"""

EVENTS_OUT = """
CREATE VIEW out_events AS
WITH named AS (
    SELECT *, var('event_types')[type_idx] AS type,
        make_timestamp((at_s * 1000000)::BIGINT) AS utc
    FROM w_events
)
SELECT record_id, type, to_timestamp(at_s) AS occurred_at,
    CASE WHEN type IN ('email_open', 'email_click') THEN
        CASE WHEN c < 0.45
        THEN 'newsletter-' || year(utc) || '-' || lpad(month(utc)::VARCHAR, 2, '0')
        ELSE pick(var('campaigns'), (c - 0.45) / 0.55) END
    END AS campaign,
    CASE WHEN type IN ('page_view', 'email_click')
        THEN var('site') || var('pages')[page_idx] END AS url,
    CASE WHEN type = 'form_submission'
        THEN quarterly(var('form_names')[form_idx], utc) END AS form,
    CASE WHEN type = 'form_submission'
        THEN var('site') || quarterly(var('form_pages')[form_idx], utc)
    END AS page_url
FROM named
"""

# what a contact row needs from other tables, in id order; email addresses that
# would repeat get a number
PEOPLE = """
CREATE TABLE w_people AS
WITH activity AS (
    SELECT record_id AS id, to_timestamp(max(at_s)) AS last_activity
    FROM w_events GROUP BY record_id
), won AS (
    SELECT DISTINCT dc.contact_id AS id
    FROM w_deal_contacts dc JOIN w_deals d ON d.id = dc.deal_id
    WHERE d.dealstage = 'closedwon'
), joined AS (
    SELECT c.*, a.last_activity, co.numberofemployees AS company_size,
        co.annualrevenue AS company_revenue, co.industry AS company_industry,
        coalesce(CASE WHEN u('ct.same_country', c.id) < 0.85 THEN co.country_idx END,
            pick(var('country_pick'), u('ct.country', c.id))) AS country_idx,
        -- buyers on a won deal are customers at least
        CASE WHEN won.id IS NOT NULL AND c.stage_idx < var('customer')
        THEN var('customer') ELSE c.stage_idx END AS stage,
        strip_accents(lower(c.firstname || '.' || c.lastname)) AS local,
        coalesce(co.domain, var('free_mail')[mail_idx]) AS domain
    FROM w_contacts c
    LEFT JOIN w_companies co ON co.id = c.company_id
    LEFT JOIN activity a ON a.id = c.id
    LEFT JOIN won ON won.id = c.id
), ranked AS (
    -- the same name at the same domain (company or free mail) is one address
    SELECT id, row_number() OVER (PARTITION BY first_idx, last_idx,
        coalesce(company_id, -mail_idx) ORDER BY id) AS rank
    FROM w_contacts
)
SELECT joined.*, CASE WHEN rank > 1 THEN rank::VARCHAR ELSE '' END AS suffix
FROM joined JOIN ranked USING (id) ORDER BY id
"""

CONTACTS_OUT = """
CREATE TABLE out_contacts AS
WITH mailed AS (
    SELECT *, CASE email_kind
        WHEN 'unknown' THEN NULL
        WHEN 'mixed' THEN strip_accents(firstname || '.' || lastname) || suffix || '@'
            || upper(domain[1]) || domain[2:]
        WHEN 'invalid' THEN [
            local || suffix || '@' || split_part(domain, '.', 1),
            local || suffix || '.' || domain,
            local || suffix || '@@' || domain,
            'n/a',
            firstname || ' ' || lastname || ' @' || domain
        ][1 + floor(5 * u('ct.invalid', id))::BIGINT]
        ELSE local || suffix || '@' || domain END AS email
    FROM w_people
)
SELECT id, email, firstname, lastname,
    var('stages')[stage + 1] AS lifecyclestage,
    pick(var('status_pick'), u('ct.status', id)) AS hs_lead_status,
    CASE WHEN u('ct.owned', id) < 0.96 THEN 'owner-' || lpad(
        (1 + floor(20 * pow(u('ct.owner', id), 1.5)))::BIGINT::VARCHAR, 2, '0')
    END AS hubspot_owner_id,
    CASE WHEN u('ct.zone_known', id) < 0.8
        THEN pick(var('country_zones')[country_idx], u('ct.zone', id)) END
        AS hs_timezone,
    CASE WHEN company_id IS NOT NULL THEN company_size
        WHEN u('ct.size_known', id) < 0.5 THEN greatest(1,
            round(exp(ln(8) + 1.4 * gauss('ct.size', id))))::BIGINT
    END AS numberofemployees,
    company_revenue AS annualrevenue,
    var('country_codes')[country_idx] AS country,
    coalesce(company_industry, CASE WHEN u('ct.industry_known', id) < 0.6
        THEN pick(var('industries'), u('ct.industry', id)) END) AS industry,
    ago(age_days) AS createdate,
    last_activity AS last_activity_date,
    CASE WHEN stage IN (var('customer'), var('customer') + 1)
        OR u('ct.renews', id) < 0.03
        THEN today() + (floor(395 * u('ct.renewal', id)) - 30)::INT
    END AS renewal_date,
    bad_address AS hs_email_bad_address,
    CASE WHEN bad_address THEN pick(var('bounce_reasons'), u('ct.bounce', id)) END
        AS hs_email_hard_bounce_reason,
    optout AS hs_email_optout,
    nullif(list_filter([
        CASE WHEN u('ct.crm', id) < 0.40 THEN 'crm' END,
        CASE WHEN u('ct.cms', id) < 0.25 THEN 'cms' END,
        CASE WHEN u('ct.ops', id) < 0.20 THEN 'ops' END,
        CASE WHEN u('ct.sales', id) < 0.30 THEN 'sales' END,
        CASE WHEN u('ct.service', id) < 0.15 THEN 'service' END
    ], lambda x: x IS NOT NULL), []) AS interests,
    pick(var('titles'), u('ct.title', id)) AS jobtitle,
    CASE WHEN u('ct.city_known', id) < 0.88
        THEN pick(var('country_cities')[country_idx], u('ct.city', id)) END AS city
FROM mailed
"""

COMPANIES_OUT = """
CREATE TABLE out_companies AS
WITH pipeline AS (
    SELECT company_id, bool_or(dealstage = 'closedwon') AS won,
        bool_or(dealstage NOT IN ('closedwon', 'closedlost')) AS open
    FROM w_deals WHERE company_id IS NOT NULL GROUP BY company_id
)
SELECT c.id, c.name, c.domain, c.numberofemployees, c.industry,
    var('country_codes')[c.country_idx] AS country, c.annualrevenue,
    CASE WHEN p.won THEN 'customer' WHEN p.open THEN 'opportunity'
    ELSE pick(var('company_stage_pick'), u('co.stage', c.id)) END AS lifecyclestage
FROM w_companies c LEFT JOIN pipeline p ON p.company_id = c.id
ORDER BY c.id
"""

DEALS_OUT = """
CREATE TABLE out_deals AS
SELECT id, dealname, amount, dealstage, pipeline, closedate, createdate
FROM w_deals ORDER BY id
"""

ASSOCIATIONS = """
CREATE TABLE out_associations AS
SELECT * FROM (
    SELECT 'contact' AS from_type, id AS from_id, 'company' AS to_type,
        company_id AS to_id, true AS "primary"
    FROM w_contacts WHERE company_id IS NOT NULL
    UNION ALL
    SELECT 'contact', id, 'company', second_company_id, false
    FROM w_contacts WHERE second_company_id IS NOT NULL
    UNION ALL
    SELECT 'deal', id, 'company', company_id, true
    FROM w_deals WHERE company_id IS NOT NULL
    UNION ALL
    SELECT 'deal', deal_id, 'contact', contact_id, is_primary
    FROM w_deal_contacts
) ORDER BY from_type, from_id, to_type, to_id
"""

# earlier lifecycle stages come first, the current one last; steps split the
# contact's lifetime into equal slices, one change at a random point in each
HISTORY = """
CREATE TABLE out_history AS
WITH staged AS (
    SELECT id, createdate, hs_lead_status,
        var('as_of_s') - epoch(createdate) AS span,
        list_position(var('stages'), lifecyclestage) - 1 AS stage
    FROM out_contacts
), steps AS (
    SELECT *, unnest(range(prior + 1)) AS j FROM (
        SELECT *, least(stage, pick(var('prior_pick'), u('hi.prior', id))) AS prior
        FROM staged
    )
), rows AS (
    SELECT id, 'lifecyclestage' AS property, var('stages')[stage - prior + j + 1]
        AS value,
        later(createdate, CASE WHEN j = 0 THEN 0
            ELSE span * (j + u('hi.when', id, j)) / (prior + 1) END) AS changed_at
    FROM steps
    UNION ALL
    SELECT id, 'hs_lead_status', 'NEW',
        later(createdate, 0.1 * span * u('hi.new', id))
    FROM staged
    WHERE u('hi.status', id) < 0.25 AND hs_lead_status <> 'NEW'
    UNION ALL
    SELECT id, 'hs_lead_status', hs_lead_status,
        later(createdate, span * (0.5 + 0.5 * u('hi.set', id)))
    FROM staged
    WHERE u('hi.status', id) < 0.25 AND hs_lead_status IS NOT NULL
)
SELECT 'contact' AS object_type, id AS record_id, property, value, changed_at
FROM rows ORDER BY record_id, property, changed_at, value
"""

MEMBERSHIPS = """
CREATE TABLE out_memberships AS
SELECT 'Do not contact' AS "list", id AS record_id
FROM w_contacts WHERE u('dnc', id) < 0.01 ORDER BY id
"""
