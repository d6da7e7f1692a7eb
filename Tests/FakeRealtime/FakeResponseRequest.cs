namespace CaptionSidecar.FakeRealtime;

/// <summary>A <c>response.create</c> the fake started a response for.</summary>
/// <param name="Turn">The request's <c>metadata.turn</c>, if it named one.</param>
/// <param name="Context">The item ids its <c>input</c> referenced, in order; null when it used the whole default conversation.</param>
/// <param name="Conversation">The default conversation's item ids when the request arrived, oldest first.</param>
public sealed record FakeResponseRequest(string? Turn, IReadOnlyList<string>? Context, IReadOnlyList<string> Conversation)
{
    /// <summary>The text of the last user message in the response's context (what it translated); null when that message was audio or there was none.</summary>
    public string? SourceText { get; init; }

    /// <summary>The text of every item of the response's context, in order (null for an audio item).</summary>
    public IReadOnlyList<string?> ContextTexts { get; init; } = [];
}
