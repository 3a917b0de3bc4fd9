namespace WebhookFunctions.Core.Failures;

/// <summary>
/// A request the domain cannot carry out, for a reason the caller can act on. Each kind is its own
/// type so that an HTTP edge maps it to a status and a queue worker decides to retry or give up,
/// without either knowing the other. Messages are written for clients: never put a secret, a key or
/// an internal detail in one.
/// </summary>
public abstract class DomainException : Exception
{
    protected DomainException(string message, IReadOnlyList<ErrorDetail>? details = null)
        : base(message)
    {
        Details = details is { Count: > 0 } ? details : null;
    }

    public IReadOnlyList<ErrorDetail>? Details { get; }
}

/// <summary>One thing wrong with one field or cause.</summary>
public sealed record ErrorDetail(string Field, string Message);

/// <summary>The input breaks a rule; <see cref="DomainException.Details"/> says which, per field.</summary>
public sealed class ValidationException : DomainException
{
    public ValidationException(IReadOnlyList<ErrorDetail> details)
        : base("The request contains invalid parameters or malformed data", details)
    {
    }

    public ValidationException(params ErrorDetail[] details)
        : this((IReadOnlyList<ErrorDetail>)details)
    {
    }
}

/// <summary>The resource does not exist (or no longer does).</summary>
public sealed class NotFoundException(string message) : DomainException(message);

/// <summary>The resource exists but belongs to another merchant.</summary>
public sealed class ForbiddenException(string message) : DomainException(message);

/// <summary>The request conflicts with current state: a duplicate, a quota, a race the caller should retry.</summary>
public sealed class ConflictException : DomainException
{
    public ConflictException(string message, params ErrorDetail[] details)
        : base(message, details)
    {
    }

    /// <summary>Set when retrying after a pause is expected to succeed.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>The caller's expected version (ETag) is not the current one.</summary>
public sealed class PreconditionFailedException() : DomainException("The resource has changed since the ETag in If-Match was issued.");

/// <summary>A dependency answered with an error or could not be reached; retrying later may succeed.</summary>
public sealed class DependencyUnavailableException(string message) : DomainException(message);

/// <summary>A dependency did not answer within its deadline; retrying later may succeed.</summary>
public sealed class DependencyTimeoutException(string message) : DomainException(message);
