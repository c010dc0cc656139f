import { useT } from '../../i18n';
import { nodeSpecs, nodeTypes, type NodeType } from './catalogue';

const groups = ['trigger', 'message', 'logic'] as const;

/** The node catalogue: a click adds the node to the canvas. */
export function Palette({ onAdd }: { onAdd: (type: NodeType) => void }) {
  const t = useT();
  return (
    <div className="palette" aria-label={t('editor.palette')}>
      <h3>{t('editor.palette')}</h3>
      {groups.map((g) => (
        <div key={g} className="palette-group">
          <h4>{t(`group.${g}`)}</h4>
          {nodeTypes
            .filter((type) => nodeSpecs[type].group === g)
            .map((type) => (
              <button type="button" key={type} className={`palette-item step-${g}`} data-node-type={type} onClick={() => onAdd(type)}>
                {t(`node.${type}`)}
              </button>
            ))}
        </div>
      ))}
    </div>
  );
}
