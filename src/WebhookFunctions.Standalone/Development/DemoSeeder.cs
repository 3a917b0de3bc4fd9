using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Standalone.Development;

/// <summary>
/// On the first local start, creates a demo merchant, application and API key and prints the key
/// with a curl line that works. The key is written to the console only, never to a log.
/// </summary>
public sealed class DemoSeeder(
    Tables tables,
    MerchantService merchants,
    ApplicationService applications,
    ApiKeyService keys,
    IOptions<DevelopmentOptions> options,
    ILogger<DemoSeeder> logger) : IHostedService
{
    private const string MarkerPartition = "_demo";
    private const string MarkerRow = "seed";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SeedAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException)
        {
            logger.LogWarning("Could not create the demo data ({ExceptionType}); is storage reachable?", exception.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var baseUrl = options.Value.PublicBaseUrl.TrimEnd('/');
        var marker = await tables.Merchants.GetEntityIfExistsAsync<TableEntity>(MarkerPartition, MarkerRow, cancellationToken: cancellationToken);
        if (marker.HasValue)
        {
            var merchantId = marker.Value!.GetString("MerchantId");
            Console.WriteLine($"""

                Demo data already exists (merchant {merchantId}, application {marker.Value.GetString("ApplicationId")}).
                Its API key was printed on the first start only. Make a new one with:
                  dotnet run --project src/WebhookFunctions.Admin -- key create --merchant {merchantId} --name "local"

                """);
            return;
        }

        var merchant = await merchants.CreateAsync("Demo merchant", cancellationToken);
        var application = await applications.CreateAsync(merchant.Id, "Demo application", cancellationToken);
        var key = await keys.CreateAsync(merchant.Id, "Demo key", null, cancellationToken);
        await tables.Merchants.AddEntityAsync(
            new TableEntity(MarkerPartition, MarkerRow) { ["MerchantId"] = merchant.Id, ["ApplicationId"] = application.Id },
            cancellationToken);

        Console.WriteLine($"""

            Demo merchant  {merchant.Id}
            Application    {application.Id}
            API key        {key.Key}
            (shown once; only its hash is stored)

            Try it:
              curl -i -X POST {baseUrl}/api/v1/applications/{application.Id}/webhooks -H "Authorization: Bearer {key.Key}" -H "Content-Type: application/json" -d '{"{"}"url":"https://example.com/webhooks"{"}"}'
              curl -i {baseUrl}/api/v1/applications/{application.Id}/webhooks -H "Authorization: Bearer {key.Key}"

            """);
    }
}
