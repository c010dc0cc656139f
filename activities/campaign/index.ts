export { campaignActivities, type SendFn } from './page';
