import { useT } from '../../i18n';
import { ApiAccessSection } from './ApiAccessSection';
import { SmsSection } from './SmsSection';
import { WhatsAppLines } from './WhatsAppLines';

export function SettingsPage() {
  const t = useT();
  return (
    <div className="page">
      <h1>{t('settings.title')}</h1>
      <WhatsAppLines />
      <SmsSection />
      <ApiAccessSection />
    </div>
  );
}
