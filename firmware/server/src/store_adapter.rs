//! The real on-device store (`sentio-store`) as the server's [`ModelStore`]: a one-to-one
//! mapping, every store error answered with the link's error code for it.

use sentio_link::{BeginTransfer, Capabilities, ErrorCode, ModelInfo, ModelName, Slot};
use sentio_store::{Begin, StagingSink, Store, StoreError, StoreFs};

use crate::store::{BeginDecision, BeginMode, ModelStore};

fn code(e: StoreError) -> ErrorCode {
    e.error_code()
}

impl<F: StoreFs> ModelStore for Store<F> {
    type Sink<'a>
        = StagingSink<'a, F>
    where
        Self: 'a;

    fn capabilities(&self) -> Capabilities {
        Store::capabilities(self)
    }

    fn quota_bytes(&self) -> u64 {
        self.config().quota_bytes
    }

    fn begin(
        &mut self,
        request: &BeginTransfer,
        mode: BeginMode,
    ) -> Result<BeginDecision, ErrorCode> {
        match Store::begin_transfer(self, request, mode == BeginMode::Force).map_err(code)? {
            Begin::Skip => Ok(BeginDecision::Skip),
            Begin::Accept { resume_offset } => Ok(BeginDecision::Accept { resume_offset }),
        }
    }

    fn sink(&mut self, name: &ModelName) -> Result<Self::Sink<'_>, ErrorCode> {
        Store::sink(self, name.as_str()).map_err(code)
    }

    fn commit(&mut self, name: &ModelName) -> Result<ModelInfo, ErrorCode> {
        Store::commit(self, name.as_str())
            .map(|m| m.to_model_info())
            .map_err(code)
    }

    fn abort(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Store::abort(self, name.as_str()).map_err(code)
    }

    fn activate(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Store::activate(self, name.as_str())
            .map(|_| ())
            .map_err(code)
    }

    fn rollback(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Store::rollback(self, name.as_str())
            .map(|_| ())
            .map_err(code)
    }

    fn delete(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Store::delete(self, name.as_str()).map_err(code)
    }

    fn list(&self) -> Result<Vec<ModelInfo>, ErrorCode> {
        Ok(Store::list(self)
            .iter()
            .map(|m| m.to_model_info())
            .collect())
    }

    fn inspect(&self, name: &ModelName, slot: Slot) -> Result<ModelInfo, ErrorCode> {
        Store::inspect(self, name.as_str(), slot)
            .map(|m| m.to_model_info())
            .map_err(code)
    }
}
