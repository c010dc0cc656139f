import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes every journey carries, so an operator can find "the journey of +97250… in
 * flow X" in Temporal Web. All Keyword: a PostgreSQL visibility store allows only a few custom attributes
 * per namespace, and these ten are the ones worth spending them on.
 */
export const searchAttributes = {
  TenantId: defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD),
  FlowId: defineSearchAttributeKey('FlowId', SearchAttributeType.KEYWORD),
  FlowVersion: defineSearchAttributeKey('FlowVersion', SearchAttributeType.KEYWORD),
  Contact: defineSearchAttributeKey('Contact', SearchAttributeType.KEYWORD),
  Channel: defineSearchAttributeKey('Channel', SearchAttributeType.KEYWORD),
  LineId: defineSearchAttributeKey('LineId', SearchAttributeType.KEYWORD),
  CampaignId: defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD),
  SourceRef: defineSearchAttributeKey('SourceRef', SearchAttributeType.KEYWORD),
  CurrentNode: defineSearchAttributeKey('CurrentNode', SearchAttributeType.KEYWORD),
  JourneyStatus: defineSearchAttributeKey('JourneyStatus', SearchAttributeType.KEYWORD),
};

export const allSearchAttributeKeys = Object.values(searchAttributes);

/** `--search-attribute Name=Keyword` arguments for `temporal server start-dev`. */
export const devServerSearchAttributeArgs = (): string[] =>
  allSearchAttributeKeys.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
