namespace CaptionSidecar.Captions;

/// <summary>
/// Takes caption updates from the caption tracks and hands them to every output. Never blocks and never throws:
/// each output has its own bounded queue (see <see cref="CaptionDispatcher"/>).
/// </summary>
public interface ICaptionPublisher
{
    /// <summary>Queues <paramref name="update"/> for every output.</summary>
    void Publish(CaptionUpdate update);

    /// <summary>
    /// A caption track dropped or cut text to stay bounded: counted for status and logged (not every time: a
    /// flood of them must not flood the log).
    /// </summary>
    void Discarded(CaptionDiscard discard);
}
