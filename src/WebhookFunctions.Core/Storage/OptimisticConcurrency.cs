using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Core.Storage;

/// <summary>Thrown by one try of an optimistic write when another writer got there first; the helper reads and tries again.</summary>
public sealed class WriteConflictException() : Exception("Another writer changed the record first.");

/// <summary>
/// The one read-modify-write loop: every optimistic write in the service goes through it, so each is
/// bounded, and contending writers are spread out by a short, growing, random pause rather than
/// colliding again at once.
/// </summary>
public static class OptimisticConcurrency
{
    public const int MaxAttempts = 20;

    /// <summary>
    /// Runs <paramref name="attempt"/> until it returns, retrying only on <see cref="WriteConflictException"/>;
    /// after <see cref="MaxAttempts"/> tries the caller gets a <see cref="ConflictException"/> to retry later.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (var tries = 0; tries < MaxAttempts; tries++)
        {
            if (tries > 0)
            {
                await Task.Delay(Random.Shared.Next(1, Math.Min(5 << tries, 100)), cancellationToken);
            }

            try
            {
                return await attempt(cancellationToken);
            }
            catch (WriteConflictException)
            {
            }
        }

        throw new ConflictException("Too many concurrent changes to this resource; retry the request.") { RetryAfter = TimeSpan.FromSeconds(1) };
    }
}
