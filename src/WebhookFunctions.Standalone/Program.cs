using WebhookFunctions.Standalone;
using WebhookFunctions.Standalone.Development;

var app = StandaloneApp.Build(args);
var azurite = app.Services.GetService<AzuriteHostedService>();
try
{
    await app.RunAsync();
}
catch (Exception) when (azurite is { Failed: true })
{
    // Already logged where it happened, with Azurite's exit code and last output.
}

return azurite is { Failed: true } ? 1 : 0;
