using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Jobs;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// The delivery work for a host without the Functions runtime (the standalone host): it polls the
/// queues and runs the sweep on a timer, calling the same processors the queue and timer functions
/// call. It behaves as the queue trigger does: a message is deleted only after it was handled, a
/// failed one comes back after a short pause, and one that failed <c>Delivery:MaxDequeueCount</c>
/// times is moved to <c>{queue}-poison</c>, never dropped.
/// </summary>
public sealed class DeliveryWorkers(
    DeliveryQueues queues,
    QueueSignals signals,
    FanOutProcessor fanOut,
    AttemptProcessor attempts,
    JobProcessor jobs,
    DeliverySweeper sweeper,
    Verification.ChallengeProcessor challenges,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryWorkers> logger) : BackgroundService
{
    private static readonly TimeSpan FailedMessageRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MinPoll = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(200);
    private readonly DeliveryOptions _options = options.Value;

    /// <summary>Longer than an attempt's claim, so a message is not handed to a second worker while the first still sends it.</summary>
    private TimeSpan Lease => TimeSpan.FromSeconds((2 * _options.TimeoutSeconds) + 60);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
        PumpAsync(queues.FanOut, text => DeliveryQueues.Deserialize<FanOutMessage>(text) is { } m ? fanOut.HandleAsync(m, stoppingToken) : null, stoppingToken),
        PumpAsync(queues.Attempts, text => DeliveryQueues.Deserialize<AttemptMessage>(text) is { } m ? attempts.HandleAsync(m, stoppingToken) : null, stoppingToken),
        PumpAsync(queues.Jobs, text => DeliveryQueues.Deserialize<JobMessage>(text) is { } m ? jobs.HandleAsync(m, stoppingToken) : null, stoppingToken),
        PumpAsync(queues.Verifications, text => DeliveryQueues.Deserialize<Verification.VerificationMessage>(text) is { } m ? challenges.HandleAsync(m, stoppingToken) : null, stoppingToken),
        SweepAsync(stoppingToken));

    /// <summary>
    /// Keeps up to <c>Delivery:BatchSize</c> messages in hand, taking more as each finishes, so one slow
    /// receiver holds one slot rather than the whole batch.
    /// </summary>
    private async Task PumpAsync(QueueClient queue, Func<string, Task?> handle, CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(_options.BatchSize, _options.BatchSize);
        var idle = MinPoll;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < _options.BatchSize && slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                QueueMessage[] received;
                try
                {
                    received = (await queue.ReceiveMessagesAsync(free, Lease, stoppingToken)).Value;
                }
                catch
                {
                    // Nothing was taken, so every slot claimed for this poll goes back: a storage outage must not leak them.
                    slots.Release(free);
                    throw;
                }

                if (free > received.Length)
                {
                    slots.Release(free - received.Length);
                }
                if (received.Length == 0)
                {
                    idle = await signals.WaitAsync(queue.Name, idle, stoppingToken)
                        ? MinPoll
                        : TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, MaxPoll.Ticks));
                    continue;
                }

                idle = MinPoll;
                foreach (var message in received)
                {
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await HandleOneAsync(queue, message, handle, stoppingToken);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }, CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Whatever went wrong (the SDK gives up with an AggregateException once its retries
                // are spent), a pump that stops is silent lost throughput: log it and poll again.
                logger.LogWarning(exception, "Polling {Queue} failed ({ExceptionType}); retrying", queue.Name, exception.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task HandleOneAsync(QueueClient queue, QueueMessage message, Func<string, Task?> handle, CancellationToken stoppingToken)
    {
        try
        {
            var work = handle(message.MessageText);
            if (work is null)
            {
                await PoisonAsync(queue, message, "it is not a message this service sends", stoppingToken);
                return;
            }

            await work;
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the message comes back when its lease ends.
        }
        catch (Exception exception)
        {
            if (message.DequeueCount >= _options.MaxDequeueCount)
            {
                await PoisonAsync(queue, message, exception.GetType().Name, stoppingToken);
                return;
            }

            logger.LogWarning("Handling message {MessageId} from {Queue} failed ({ExceptionType}); it comes back in {Delay}",
                message.MessageId, queue.Name, exception.GetType().Name, FailedMessageRetry);
            try
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: FailedMessageRetry, cancellationToken: stoppingToken);
            }
            catch (RequestFailedException)
            {
                // The lease ran out meanwhile: the message is visible again anyway.
            }
        }
    }

    private async Task PoisonAsync(QueueClient queue, QueueMessage message, string reason, CancellationToken stoppingToken)
    {
        logger.LogError("Message {MessageId} from {Queue} moved to the poison queue after {DequeueCount} tries: {Reason}",
            message.MessageId, queue.Name, message.DequeueCount, reason);
        await queues.PoisonOf(queue).SendMessageAsync(message.MessageText, stoppingToken);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.SweepIntervalSeconds));
        do
        {
            try
            {
                await sweeper.SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Delivery sweep failed ({ExceptionType}); it runs again in {Interval} s", exception.GetType().Name, _options.SweepIntervalSeconds);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

public static class DeliveryWorkersHostingExtensions
{
    /// <summary>Runs the delivery work inside this host (the standalone host); the Functions app uses queue and timer triggers instead.</summary>
    public static IHostApplicationBuilder AddDeliveryWorkers(this IHostApplicationBuilder builder)
    {
        builder.AddWebhookDelivery();
        if (builder.Configuration.GetValue($"{DeliveryOptions.Section}:{nameof(DeliveryOptions.RunWorkers)}", true))
        {
            builder.Services.AddHostedService<DeliveryWorkers>();
        }

        return builder;
    }
}
