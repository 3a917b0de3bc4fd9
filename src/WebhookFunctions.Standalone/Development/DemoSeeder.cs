using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Standalone.Development;

/// <summary>
/// On the first local start, creates a demo merchant, application and API key and prints them as
/// shell lines (<c>KEY=</c>, <c>APP=</c>, <c>BASE=</c>) with curl lines that use them. The key is
/// written to the console only, never to a log.
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
        catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException or AggregateException)
        {
            logger.LogWarning("Could not create the demo data ({ExceptionType}); is storage reachable?", exception.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var baseUrl = options.Value.PublicBaseUrl.TrimEnd('/') + "/api";
        var marker = await tables.Merchants.GetEntityIfExistsAsync<TableEntity>(MarkerPartition, MarkerRow, cancellationToken: cancellationToken);
        if (marker.HasValue)
        {
            var merchantId = marker.Value!.GetString("MerchantId");
            Console.WriteLine($"""

                Demo data already exists (merchant {merchantId}). Its API key was printed on the first start only.
                Paste these lines into a shell for the application, and make a new key with the admin CLI:

                APP={marker.Value.GetString("ApplicationId")}
                BASE={baseUrl}
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

        // The block after the blank line is all shell (no comments: zsh does not take them when pasted),
        // and its names are the README's, so the walkthrough there continues from it.
        Console.WriteLine($"""

            Demo merchant {merchant.Id}, with an application and an API key. The key is shown this once; only its hash is stored.
            Paste these lines into a shell:

            KEY={key.Key}
            APP={application.Id}
            BASE={baseUrl}
            curl -i -X POST $BASE/v1/applications/$APP/webhooks -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d '{"{"}"url":"https://example.com/webhooks"{"}"}'
            curl -i $BASE/v1/applications/$APP/webhooks -H "Authorization: Bearer $KEY"

            """);
    }
}
