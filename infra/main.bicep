targetScope = 'subscription'

@minLength(1)
@maxLength(24)
@description('Environment name, e.g. "prod" or "staging"; it names the resource group and seeds the resource token.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Whether the Key Vault accepts traffic from public networks. The Function App reaches it over the public endpoint unless you add private networking.')
@allowed([
  'Enabled'
  'Disabled'
])
param keyVaultPublicNetworkAccess string = 'Enabled'

@description('Event types merchants may subscribe to (setting Webhooks:EventTypes).')
param eventTypes array = [
  'session.completed'
  'session.expired'
]

@minValue(1)
@maxValue(1000)
@description('Most webhooks one application may hold (setting Webhooks:MaxPerApplication).')
param maxWebhooksPerApplication int = 20

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  product: 'webhookfunctions'
}

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-webhookfunctions-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: 'id-webhooks-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: 'stwebhooks${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package'
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyVault'
  scope: resourceGroup
  params: {
    name: 'kv-wh-${resourceToken}'
    location: location
    tags: tags
    publicNetworkAccess: keyVaultPublicNetworkAccess
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: resourceGroup
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionApp'
  scope: resourceGroup
  params: {
    name: 'func-webhooks-${resourceToken}'
    planName: 'plan-webhooks-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    eventTypes: eventTypes
    maxWebhooksPerApplication: maxWebhooksPerApplication
    azdServiceName: 'api'
  }
  dependsOn: [
    rbac
  ]
}

output AZURE_RESOURCE_GROUP string = resourceGroup.name
output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_HOSTNAME string = functionApp.outputs.defaultHostName
output KEY_VAULT_URI string = keyVault.outputs.uri
output TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
// azd reads these into the environment (.azure/<env>/.env) after provisioning.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
