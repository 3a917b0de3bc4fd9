using System.Buffers;
using System.Text;
using System.Text.Json;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Validation;

namespace WebhookFunctions.Core.Events;

/// <summary>Reads a publish body: every problem is collected, so one 400 lists them all.</summary>
public sealed class EventValidator(EventCatalog catalog)
{
    public const int MaxExternalIdLength = 256;
    public const int MaxWebhookIds = 20;

    private static readonly SearchValues<char> ExternalIdCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-");

    public EventDraft Parse(JsonElement body)
    {
        var errors = new List<ErrorDetail>();
        string? eventType = null;
        byte[]? payload = null;
        string? externalId = null;
        List<string>? webhookIds = null;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "eventType":
                    eventType = ReadEventType(property.Value, errors);
                    break;
                case "payload":
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        payload = Encoding.UTF8.GetBytes(property.Value.GetRawText());
                    }
                    else
                    {
                        errors.Add(new ErrorDetail("payload", "Must be a JSON object"));
                    }

                    break;
                case "externalId":
                    externalId = ReadExternalId(property.Value, errors);
                    break;
                case "webhookIds":
                    webhookIds = ReadWebhookIds(property.Value, errors);
                    break;
                default:
                    errors.Add(JsonFields.Unrecognised(property.Name, readOnly: property.Name is "id" or "applicationId" or "createdAt"));
                    break;
            }
        }

        if (!body.TryGetProperty("eventType", out _))
        {
            errors.Add(new ErrorDetail("eventType", "Is required"));
        }

        if (!body.TryGetProperty("payload", out _))
        {
            errors.Add(new ErrorDetail("payload", "Is required: a JSON object"));
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : new EventDraft(eventType!, payload!, externalId, webhookIds);
    }

    private string? ReadEventType(JsonElement value, List<ErrorDetail> errors)
    {
        var name = value.ValueKind == JsonValueKind.String ? JsonFields.ReadString(value, "eventType", errors) : null;
        if (name == EventCatalog.WebhookDisabled)
        {
            errors.Add(new ErrorDetail("eventType", "webhook.disabled is published by the service itself, not by merchants"));
            return null;
        }

        if (name is null || name == EventCatalog.All || !catalog.Contains(name))
        {
            errors.Add(new ErrorDetail("eventType", name is null
                ? "Must be an event type name from the catalog"
                : $"Unknown event type: {JsonFields.Shown(name, 100)}; see GET /api/v1/event-types"));
            return null;
        }

        return name;
    }

    private static string? ReadExternalId(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? JsonFields.ReadString(value, "externalId", errors) : null;
        if (text is not { Length: > 0 and <= MaxExternalIdLength } || text.AsSpan().ContainsAnyExcept(ExternalIdCharacters))
        {
            errors.Add(new ErrorDetail("externalId", $"Must be 1 to {MaxExternalIdLength} characters of A-Z a-z 0-9 . _ : -"));
            return null;
        }

        return text;
    }

    private static List<string>? ReadWebhookIds(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxWebhookIds
            || value.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.String || !Ids.IsValid(item.GetString())))
        {
            errors.Add(new ErrorDetail("webhookIds", $"Must be an array of at most {MaxWebhookIds} webhook ids (lowercase UUIDs)"));
            return null;
        }

        return value.EnumerateArray().Select(item => item.GetString()!).Distinct(StringComparer.Ordinal).ToList();
    }
}
