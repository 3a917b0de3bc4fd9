param name string
param location string
param tags object
param deploymentContainerName string

@description('The product\'s tables (src/WebhookFunctions.Core/Storage/TableNames.cs). The app also creates them if missing.')
param tableNames array = [
  'Merchants'
  'Applications'
  'ApplicationOwners'
  'ApiKeys'
  'ApiKeyHashes'
  'Webhooks'
  'Idempotency'
  'Events'
  'Deliveries'
  'Jobs'
  'Verifications'
]

@description('The delivery work queues and their poison queues (src/WebhookFunctions.Core/Delivery/DeliveryQueues.cs), named by the Functions app\'s queue triggers. The app also creates them if missing.')
param queueNames array = [
  'webhook-fanout'
  'webhook-fanout-poison'
  'webhook-attempts'
  'webhook-attempts-poison'
  'webhook-jobs'
  'webhook-jobs-poison'
  'webhook-verifications'
  'webhook-verifications-poison'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // Identity only: no account key can be used, by the app or by anyone else.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'
  }

  resource queueService 'queueServices' = {
    name: 'default'
  }
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: account::tableService
    name: tableName
  }
]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: account::queueService
    name: queueName
  }
]

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerName string = account::blobService::deploymentContainer.name
