namespace CaptionSidecar.FakeRealtime;

/// <summary>A <c>response.create</c> the fake started a response for.</summary>
/// <param name="Turn">The request's <c>metadata.turn</c>, if it named one.</param>
/// <param name="Context">The item ids its <c>input</c> referenced, in order; null when it used the whole default conversation.</param>
/// <param name="Conversation">The default conversation's item ids when the request arrived, oldest first.</param>
public sealed record FakeResponseRequest(string? Turn, IReadOnlyList<string>? Context, IReadOnlyList<string> Conversation);
