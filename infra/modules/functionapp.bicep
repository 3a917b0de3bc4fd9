param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param keyVaultUri string
param eventTypes array
param maxWebhooksPerApplication int

@description('The service in azure.yaml that deploys to this app; azd finds the app by this tag.')
param azdServiceName string

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Each setting name matches a configuration key the code binds (Section__Key); nothing here is secret.
var productSettings = union(
  {
    Storage__TableServiceUri: storageAccount.properties.primaryEndpoints.table
    Storage__QueueServiceUri: storageAccount.properties.primaryEndpoints.queue
    Storage__BlobServiceUri: storageAccount.properties.primaryEndpoints.blob
    KeyVault__VaultUri: keyVaultUri
    Azure__ManagedIdentityClientId: identityClientId
    Webhooks__MaxPerApplication: string(maxWebhooksPerApplication)
    Auth__CacheSeconds: '30'
    Api__RequestTimeoutSeconds: '15'
  },
  toObject(range(0, length(eventTypes)), i => 'Webhooks__EventTypes__${i}', i => string(eventTypes[i]))
)

var hostSettings = {
  // The Functions host, its timer leases and the delivery queue triggers (Connection = "AzureWebJobsStorage")
  // reach storage by identity: no connection string, no key. The service URIs win over the account name,
  // which stays for anything else the host derives from it.
  AzureWebJobsStorage__accountName: storageAccount.name
  AzureWebJobsStorage__blobServiceUri: storageAccount.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storageAccount.properties.primaryEndpoints.queue
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // Only the site carries the service tag: azd refuses to deploy when two resources have it.
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 100
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  resource appSettings 'config' = {
    name: 'appsettings'
    properties: union(hostSettings, productSettings)
  }

  resource ftp 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scm 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
