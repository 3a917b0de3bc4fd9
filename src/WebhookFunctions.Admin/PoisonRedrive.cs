using Azure;
using Azure.Core;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Admin;

public sealed record RedriveResult(string Queue, int Moved);

/// <summary>
/// Moves the messages of <c>{queue}-poison</c> back to <c>{queue}</c>, once the cause that poisoned them
/// is fixed. Messages are moved byte for byte (no Base64 decoding on the way), so one the trigger could
/// not even decode travels unchanged too. Each is sent before it is deleted: a failure half-way leaves a
/// duplicate, never a loss, and the delivery work is fenced against duplicates.
/// </summary>
public sealed class PoisonRedrive(QueueServiceClient service)
{
    private const string PoisonSuffix = "-poison";

    /// <summary>Long enough that a message being moved is not received again by this run.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    public static bool IsPoisonQueue(string name) => name.EndsWith(PoisonSuffix, StringComparison.Ordinal);

    /// <summary>Moves at most <paramref name="max"/> messages; by default those present when it starts, so
    /// messages poisoned again while it runs are not chased round in circles.</summary>
    public async Task<RedriveResult> RunAsync(string queueName, int? max, CancellationToken cancellationToken)
    {
        var target = service.GetQueueClient(queueName);
        var poison = service.GetQueueClient(queueName + PoisonSuffix);
        if (!await target.ExistsAsync(cancellationToken))
        {
            throw new NotFoundException($"Queue '{queueName}' does not exist.");
        }

        int limit;
        try
        {
            limit = max ?? (await poison.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return new RedriveResult(queueName, 0);
        }

        var moved = 0;
        while (moved < limit)
        {
            var batch = (await poison.ReceiveMessagesAsync(Math.Min(32, limit - moved), Lease, cancellationToken)).Value;
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var message in batch)
            {
                await target.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
                await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                moved++;
            }
        }

        return new RedriveResult(queueName, moved);
    }

    /// <summary>A queue client like the hosts' but without their Base64 encoding, so bodies pass through untouched.</summary>
    public static PoisonRedrive Create(IServiceProvider services)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        CoreHostingExtensions.ConfigureRetry(options.Retry, storage.NetworkTimeoutSeconds, storage.MaxRetries);
        var client = storage.TableServiceUri is null && !string.IsNullOrWhiteSpace(storage.ConnectionString)
            ? new QueueServiceClient(storage.ConnectionString, options)
            : new QueueServiceClient(services.GetRequiredService<QueueServiceClient>().Uri, services.GetRequiredService<TokenCredential>(), options);
        return new PoisonRedrive(client);
    }
}
