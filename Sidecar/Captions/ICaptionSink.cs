namespace CaptionSidecar.Captions;

/// <summary>
/// An output of captions (console, transcript files, OBS, overlay). Each sink gets every update of every enabled
/// language, in order per language, from its own queue: a slow or failing sink never delays the others.
/// </summary>
public interface ICaptionSink
{
    /// <summary>A short name for logs and status (for example <c>console</c>, <c>transcripts</c>).</summary>
    string Name { get; }

    /// <summary>Handles one update. Exceptions are logged by the dispatcher and do not stop later updates.</summary>
    ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken);

    /// <summary>A caption language was turned off or the sidecar is stopping: release what belongs to it.</summary>
    ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken);
}
