namespace CaptionSidecar.Captions;

/// <summary>
/// Takes caption updates from the caption tracks and hands them to every output. Never blocks and never throws:
/// each output has its own bounded queue (see <see cref="CaptionDispatcher"/>).
/// </summary>
public interface ICaptionPublisher
{
    /// <summary>Queues <paramref name="update"/> for every output.</summary>
    void Publish(CaptionUpdate update);
}
